"""prodev-labs command line: `invoke --list` shows every task, `invoke --help TASK` explains one.

Thin task functions only: parsing flags and printing. The work lives in infra/ and labs/.
"""

from __future__ import annotations

from invoke import Collection, task

# --- lab: one learner's environment -------------------------------------------------------

# --- cohort: a whole class ----------------------------------------------------------------

# --- cluster: kind, or the simulated cluster ----------------------------------------------

# --- toolchain: pulumi, provider and control-plane binaries built offline ------------------

# --- test and bench -----------------------------------------------------------------------

ns = Collection()
