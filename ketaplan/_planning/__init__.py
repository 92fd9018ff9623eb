"""The planning engine behind ``plan()`` and ``replan()``.

The search, the appointment builder, the course rules around the search, and what a re-plan
carries over. Private: the verbs are :func:`ketaplan.plan` and :func:`ketaplan.replan`.
"""
