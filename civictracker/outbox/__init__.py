"""The outbox: queue replies, schedule them within each account's caps, send each exactly once.

sweep.py holds the jobs (send now if there is room, sweep the queue), schedule.py plans within the caps
(pure), lanes.py reads each lane's caps and recent sends, calls.py makes one platform call exactly once
(with claims.py: lock, claim, compare-and-set, settle), compose.py says what a call says and where,
retry.py decides what a failed call becomes (backoff, dead, re-routed), reach.py says who may be sent a
DM, sources.py handles source posts their authors deleted.
"""
