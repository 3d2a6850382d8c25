// metrics: being written.
