"""Data sets: the synthetic generators and the clean-table readers/writers shared by the steps."""
