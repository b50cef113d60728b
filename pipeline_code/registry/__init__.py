"""A folder-based model registry with SageMaker Model Registry semantics, for local runs."""
