"""ETL: the Glue 5.0 (Spark 3.5) transform that types, checks, deduplicates and quarantines rows.

``transform.py`` is plain PySpark (imported only where Spark exists); ``pandas_transform.py``
implements the same rules without Spark for ``cdk-mlops run-local --skip-spark``.
"""
