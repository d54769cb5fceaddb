"""Watching a field's live model: spot checks of applied values, daily snapshots with drift
scores, alerts, and retraining when the data changes. One module per job:

- :mod:`.policy`: the field's monitoring settings, changed by admins (and logged);
- :mod:`.spotchecks`: drawing applied values for people to check, and live precision;
- :mod:`.references`: what live data is compared with (a version's training data);
- :mod:`.snapshots`: the daily figures and their drift scores;
- :mod:`.alerts`: lines crossed, acknowledgement, e-mail, retraining;
- :mod:`.report`: everything above for one field, as the monitoring page and
  ``manage.py monitor`` show it.

Nothing is imported here: ``catalogue.services.predictions`` imports the spot-check step, and
the other modules import predictions.
"""
