#!/usr/bin/env bash
# Exports Jane Austen's "Persuasion" (1818, public domain) from Debian's
# r-cran-janeaustenr package to examples/data/persuasion.txt, one line of the
# package's text per line, as the package stores it (UTF-8). The text file is
# committed; this script only documents (and can redo) where it came from.
#   apt-get install r-cran-janeaustenr   # brings Rscript (r-base-core)
#   bash examples/data/make_austen.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
Rscript -e 'library(janeaustenr); con <- file("persuasion.txt", "w", encoding = "UTF-8"); writeLines(persuasion, con); close(con)'
echo "wrote $(pwd)/persuasion.txt: $(wc -l < persuasion.txt) lines, $(wc -c < persuasion.txt) bytes"
