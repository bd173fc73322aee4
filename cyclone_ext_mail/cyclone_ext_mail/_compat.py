"""cyclone 1.x's ``sendmail(mailconf, message)``, on the new mailer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from twisted.internet import defer

from cyclone_ext_mail._client import SendResult
from cyclone_ext_mail._mailer import mailer_from_mapping
from cyclone_ext_mail._message import Message

__all__ = ["sendmail"]


def sendmail(mailconf: Mapping[str, Any], message: Message) -> defer.Deferred[SendResult]:
    """Send ``message`` with the 1.x settings dict; returns a Deferred.

    ``mailconf`` has ``host``, ``port``, ``username``, ``password`` and ``tls``
    (STARTTLS required when true; otherwise used when the server offers it), and
    may add ``ssl`` (implicit TLS) or any option of the ``smtp://`` URL.
    """
    try:
        mailer = mailer_from_mapping(mailconf)
    except Exception:
        return defer.fail()
    return mailer.send(message)
