"""What the accounts app announces to the apps above it, which it does not know.

``account_manager_capacity_changed`` is sent once a change that may give account managers
more room has committed: a profile's capacity, regions, qualifications or activity, or a
manager's user activated. The applications app answers it by assigning the applications
waiting for a manager at once, rather than at the next periodic catch-up.
"""

from django.dispatch import Signal

account_manager_capacity_changed = Signal()
