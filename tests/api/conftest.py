"""The rumours fixtures (analyst, companies, make_rumour) serve the API tests too."""

from tests.rumours.conftest import analyst, goto, grab, make_rumour

__all__ = ["analyst", "goto", "grab", "make_rumour"]
