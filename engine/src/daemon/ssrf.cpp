// ssrf: being written.
