"""The outbox: queue replies, schedule them within each account's caps, send each exactly once.

sweep.py decides what goes when (the send and sweep jobs), calls.py makes one platform call exactly once
(claims, batch keys, settling after a crash), schedule.py plans within the caps, reach.py says who may be
sent a DM, sources.py handles source posts their authors deleted.
"""
