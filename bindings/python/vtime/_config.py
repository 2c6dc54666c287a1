# SPDX-License-Identifier: MIT
# Where `meson install` put libvtime (it writes this file at install time);
# None in the source tree and in a package pip built (which ships its own copy).
LIBDIR = None
