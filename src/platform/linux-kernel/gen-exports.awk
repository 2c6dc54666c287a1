# SPDX-License-Identifier: MIT
# Writes EXPORT_SYMBOL_GPL() for every function the given headers declare
# with VTIME_API (the name is on the declaration's first line).
/^VTIME_API / {
	if (match($0, /vtime_[a-z0-9_]*\(/))
		print "EXPORT_SYMBOL_GPL(" substr($0, RSTART, RLENGTH - 1) ");"
}
