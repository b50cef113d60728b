"""Code that runs on AWS (Glue, SageMaker processing/training/inference, Lambda).

Nothing under this package imports ``aws_cdk``: it ships to AWS as CDK assets and
runs end to end on a laptop with no AWS account (``cdk-mlops run-local``).
"""
