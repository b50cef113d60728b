"""SageMaker Processing steps: preprocess (split) the curated data."""
