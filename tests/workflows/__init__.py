"""The act tier: run the project's GitHub Actions workflows on the host under `act`.

* ``act.py``       -- run_act(): the act command line, a minimal environment, the parsed and
                      scrubbed log (ActRun: jobs, output, lines, steps, calls, text)
* ``standins.py``  -- the vendored pins (actions/*/*/action.real.yml, PINS.md), YAML 1.2 loading
* ``contract.py``  -- static checks of workflows/actions against the pinned actions' metadata
                      (tests/test_action_contract.py runs them)
* ``actions/``     -- one composite stand-in (action.yml + a stdlib script) per pinned action
* ``test_harness_act.py`` (marker `workflows`) -- the harness on tiny workflows, under act
* ``test_act_offline.py`` -- the harness's parsing and the artifact stand-in's matching, no act
"""
