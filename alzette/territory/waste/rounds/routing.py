"""Capacitated vehicle routing with OR-Tools: which truck visits which containers, in
which order, for the shortest total distance.

Plain data in, plain data out (no Django models) so that the bench and the tests
call it directly. Distances are integer metres; loads are integer litres (a
container's fill level times its volume).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 5.0


@dataclass(frozen=True)
class Problem:
    """Nodes are indices into ``metres``; depots are nodes with no demand.

    ``starts[v]`` is the depot node where vehicle ``v`` starts and ends, and
    ``capacities[v]`` its capacity in litres.
    """

    metres: Sequence[Sequence[int]]
    demands: Sequence[int]
    starts: Sequence[int]
    capacities: Sequence[int]


@dataclass
class Solution:
    #: Per vehicle, the visited nodes in order (its depot excluded).
    routes: list[list[int]]
    distances: list[int]
    loads: list[int]
    #: Nodes left out for lack of capacity.
    dropped: list[int] = field(default_factory=list)
    status: str = ""
    seconds: float = 0.0

    @property
    def distance(self) -> int:
        return sum(self.distances)


def solve(problem: Problem, *, time_limit: float = DEFAULT_TIME_LIMIT) -> Solution:
    """Solve the capacitated VRP: cheapest-arc first solution, then guided local search
    until ``time_limit`` seconds. Visits may be dropped only when the fleet cannot
    carry every load (total or single load too large, or no packing found)."""
    started = time.perf_counter()
    depots = set(problem.starts)
    stops = [node for node in range(len(problem.metres)) if node not in depots]
    if not stops:
        return Solution(
            routes=[[] for _ in problem.starts],
            distances=[0] * len(problem.starts),
            loads=[0] * len(problem.starts),
            status="NOTHING_TO_DO",
        )
    demand = sum(problem.demands[node] for node in stops)
    largest = max(problem.demands[node] for node in stops)
    short = demand > sum(problem.capacities) or largest > max(problem.capacities)
    solution = _solve(problem, stops, allow_drop=short, time_limit=time_limit)
    if solution is None and not short:
        # Enough capacity in total but no packing found: drop what does not fit.
        logger.warning("No round carries every load; retrying with visits that may be dropped.")
        solution = _solve(problem, stops, allow_drop=True, time_limit=time_limit)
    if solution is None:
        solution = Solution(
            routes=[[] for _ in problem.starts],
            distances=[0] * len(problem.starts),
            loads=[0] * len(problem.starts),
            dropped=list(stops),
            status="ROUTING_FAIL",
        )
    solution.seconds = time.perf_counter() - started
    return solution


def _solve(
    problem: Problem, stops: list[int], *, allow_drop: bool, time_limit: float
) -> Solution | None:
    vehicles = len(problem.starts)
    manager = pywrapcp.RoutingIndexManager(
        len(problem.metres), vehicles, list(problem.starts), list(problem.starts)
    )
    routing = pywrapcp.RoutingModel(manager)
    metres = problem.metres

    def distance(from_index: int, to_index: int) -> int:
        return metres[manager.IndexToNode(from_index)][manager.IndexToNode(to_index)]

    transit = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(transit)

    def load(from_index: int) -> int:
        return problem.demands[manager.IndexToNode(from_index)]

    demand = routing.RegisterUnaryTransitCallback(load)
    routing.AddDimensionWithVehicleCapacity(
        demand, 0, [int(c) for c in problem.capacities], True, "load"
    )
    if allow_drop:
        # Larger than any detour to visit a node: a visit is dropped only when it cannot fit.
        penalty = 10 * max(max(row) for row in metres) + 1_000
        for node in stops:
            routing.AddDisjunction([manager.NodeToIndex(node)], penalty)

    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    assignment = routing.SolveWithParameters(parameters)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if assignment is None:
        logger.info("OR-Tools found no round (%s).", status)
        return None

    routes, distances, loads, visited = [], [], [], set()
    for vehicle in range(vehicles):
        previous = problem.starts[vehicle]
        index = assignment.Value(routing.NextVar(routing.Start(vehicle)))
        nodes, metres_run = [], 0
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            nodes.append(node)
            metres_run += metres[previous][node]
            previous = node
            index = assignment.Value(routing.NextVar(index))
        metres_run += metres[previous][problem.starts[vehicle]]
        routes.append(nodes)
        distances.append(metres_run)
        loads.append(sum(problem.demands[node] for node in nodes))
        visited.update(nodes)
    dropped = [node for node in stops if node not in visited]
    return Solution(routes=routes, distances=distances, loads=loads, dropped=dropped, status=status)
