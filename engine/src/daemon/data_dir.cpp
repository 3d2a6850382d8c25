// data_dir: being written.
