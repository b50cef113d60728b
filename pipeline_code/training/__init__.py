"""SageMaker training entry point: a scikit-learn pipeline saved as model.joblib."""
