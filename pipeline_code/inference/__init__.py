"""Model serving: the SageMaker scikit-learn container handler and a local HTTP server."""
