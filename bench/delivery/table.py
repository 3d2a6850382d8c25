"""The summary both delivery comparisons print (compare.sh, compare_tls.sh).

Reads the rows file measure.py appends to (name delivered wall user sys server_cpu conns, one
line per client and run) and prints medians per client and per-run ratios between clients.
"""
import collections
import statistics


def load(path):
    rows = collections.defaultdict(list)
    for line in open(path):
        name, delivered, wall, user, sys_, server, conns = line.split()
        d = max(int(delivered), 1)
        rows[name].append({"rate": d / float(wall), "cpu": (float(user) + float(sys_)) * 1e6 / d,
                           "user": float(user) * 1e6 / d, "sys": float(sys_) * 1e6 / d,
                           "server": float(server) * 1e6 / d, "conns": int(conns)})
    return rows


def print_medians(rows, title):
    med = lambda name, k: statistics.median(r[k] for r in rows[name])
    width = max(17, max(len(n) for n in rows) + 2)
    print(title)
    print(f"{'client':<{width}}{'deliveries/s':>13}{'CPU us':>9}{'user':>7}{'sys':>7}{'nginx':>7}{'conns':>7}")
    for name in rows:
        print(f"{name.replace('_', ' '):<{width}}{med(name, 'rate'):>13.0f}{med(name, 'cpu'):>9.1f}"
              f"{med(name, 'user'):>7.1f}{med(name, 'sys'):>7.1f}{med(name, 'server'):>7.1f}{med(name, 'conns'):>7.0f}")


def ratio(rows, a, b, k="rate"):
    """a / b per run (the runs took turns, so each pair are neighbours in time)."""
    r = [x[k] / y[k] for x, y in zip(rows[a], rows[b])]
    return f"median {statistics.median(r):.2f}x (runs {min(r):.2f}-{max(r):.2f})"
