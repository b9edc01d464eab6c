"""What the scheduling app announces to the apps above it, which it does not know.

``calendar_changed`` is sent once a change of the working-day calendar has committed:
every forecast in progress may have moved. The applications app answers it by analysing
every application in progress at once, rather than at the next periodic sweep.
"""

from django.dispatch import Signal

calendar_changed = Signal()
