"""rq entry points and the periodic jobs: ids in, an app context per call, the work done elsewhere.

posts.py runs the intake pipeline on stored posts and polls channels, locate.py geocodes Open311
tickets, scheduler.py is the production clock, poller.py the demo loop, replay_demo.py the demo feed.
"""
