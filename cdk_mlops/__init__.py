"""cdk-mlops: AWS CDK constructs and stacks for the four MLOps maturity levels."""

__version__ = "0.1.0"
