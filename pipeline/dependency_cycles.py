"""Cycles in a dependency graph, one per tangle, each reported as its shortest loop.

Shared by the per-app ``depends_on`` rule and the cross-app ``requires`` rule (P010).
Deterministic: nodes are visited in sorted order, so the same graph always gives the
same cycles in the same order.  Pure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence


def find_cycles(graph: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per tangle (strongly connected component) of ``graph``, as ``[a, b, a]``.

    Each cycle starts at the node of its tangle that comes first in ``graph``
    (file order for members, id order for apps) and is a shortest way back to
    it, so the answer is the same for the same graph.  Edges to nodes outside
    ``graph`` are ignored.
    """
    position = {node: index for index, node in enumerate(graph)}
    nodes = sorted(graph)
    edges = {node: sorted({n for n in graph[node] if n in graph}) for node in nodes}
    cycles = []
    for component in _strongly_connected(nodes, edges):
        start = min(component, key=position.__getitem__)
        if len(component) == 1 and start not in edges[start]:
            continue
        cycles.append(_shortest_cycle(start, set(component), edges))
    return sorted(cycles, key=lambda cycle: position[cycle[0]])


def _strongly_connected(nodes: list[str], edges: Mapping[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a catalog may be long; recursion is not needed)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(edges[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def _shortest_cycle(start: str, component: set[str], edges: Mapping[str, list[str]]) -> list[str]:
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in edges[node]:
                if child not in component:
                    continue
                if child == start:
                    path = [start]
                    while node != start:
                        path.append(node)
                        node = came_from[node]
                    return [start, *reversed(path[1:]), start]
                if child not in came_from:
                    came_from[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError("a strongly connected component always has a cycle")
