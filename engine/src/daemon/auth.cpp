// auth: being written.
