"""Intake: the pipeline that turns a stored post into a ticket, a merge, a thread update or an inbox item."""
