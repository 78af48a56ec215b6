"""Intake: channels in and out, triage, the post-to-ticket pipeline, and the jobs that run them."""
