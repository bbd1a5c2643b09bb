"""An analyst's report over the case export, with DuckDB (docs/operations.md, "Export").

    curl -s "$API/export/cases?from=2026-01-01&to=2026-12-31" -H "Authorization: Bearer $TOKEN" -o cases.csv
    python3 docs/examples/duckdb_report.py cases.csv

Prints, per channel: batches, persons (a visit counts its headcount, every other channel one),
closed cases and the closure rate as numerator and denominator, as JSON. The CSV starts with a
BOM (for spreadsheet programs); DuckDB reads it as it is.
"""

import json
import sys

import duckdb

QUERY = """
SELECT channel,
       count(*) FILTER (WHERE NOT merged)                                       AS batches,
       sum(CASE WHEN merged THEN 0
                WHEN channel IN ('visit', 'leader_reception') THEN headcount
                ELSE 1 END)                                                     AS persons,
       count(*) FILTER (WHERE status IN ('closed', 'under_review', 'under_rereview', 'terminated'))
                                                                                AS closed
FROM read_csv(?, header = true)
GROUP BY channel
ORDER BY channel
"""


def main(path):
    rows = duckdb.execute(QUERY, [path]).fetchall()
    report = {
        channel: {
            "batches": batches,
            "persons": int(persons),
            "closure_rate": {"num": closed, "den": batches},
        }
        for channel, batches, persons, closed in rows
    }
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
