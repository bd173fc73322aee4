"""Fixtures of tests/ext_mail: the SMTP peers of smtppeers.py."""

from smtppeers import smtp_sink, smtpd

__all__ = ["smtp_sink", "smtpd"]
