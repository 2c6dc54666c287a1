# SPDX-License-Identifier: MIT
# tests/time-scale-vectors.tsv -> C initialisers for the kernel self-test.
BEGIN { print "/* Generated from tests/time-scale-vectors.tsv by gen-vectors.awk: do not edit. */" }
/^#/ || NF == 0 { next }
NF != 5 { printf "#error \"time-scale-vectors.tsv line %d: want 5 fields\"\n", NR; next }
{ printf "{ \"%s\", %sull, %sull, %s, %su },\n", $1, $2, $3, $4, $5 }
