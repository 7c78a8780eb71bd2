"""The key structure of real exchange responses, as ccxt's repository records them.

ccxt keeps real responses of each exchange in ``ts/src/test/static/response/<id>.json`` (per
unified method: the raw ``httpResponse`` and what ccxt parsed from it). These modules hold, per
exchange and endpoint CTS uses, only the key NAMES those recordings show (never their values),
with the file and method they come from, and the keys the simulator leaves out, each with its
reason. ``test_recorded_shapes`` asks the simulator (through unmodified ccxt, built as CTS builds
it) and checks its bodies against them.
"""
