"""Drift-triggered retraining: the start guard and the champion/challenger comparison.

:mod:`pipeline_code.retraining.guard` decides whether a drift alarm may start the training
pipeline (cooldown, daily cap, no concurrent run); the ``DriftRetraining`` state machine
mirrors the same rules in JSONata. :mod:`pipeline_code.retraining.champion` compares a
challenger's evaluation figure with the production model's.
"""
