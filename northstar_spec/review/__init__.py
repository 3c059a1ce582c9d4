"""Reviewing a change to the specs: the specs at a git revision, in the
working tree or in a folder (snapshots), what a change means for the
framework (diff, rendered by diff_report), and who must review it
(codeowners). Imports the spec core only; never the warehouse.
"""

from northstar_spec.review.diff import Diff, compare
from northstar_spec.review.snapshots import Snapshot, at_ref, in_folder, previous_at, working_tree

__all__ = ["Diff", "Snapshot", "at_ref", "compare", "in_folder", "previous_at", "working_tree"]
