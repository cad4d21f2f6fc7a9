"""Fixtures of the simulator tests: the SAP simulator and a webhook receiver, each served over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulators.sap.app import create_app
from simulators.sap.system import SimulatorOptions
from tests.simulators.sap.support import FAST_DELIVERY, Receiver, Simulator, make_settings, small_landscape
from tests.support.processes import serving


@pytest.fixture
def simulator_options() -> SimulatorOptions:
    return SimulatorOptions(page_size=4, delivery=FAST_DELIVERY)


@pytest.fixture
def simulator(simulator_options) -> Iterator[Simulator]:
    app = create_app(make_settings(), options=simulator_options)
    if not simulator_options.demo:
        small_landscape(app.extensions["sap_system"])
    with serving(app) as url:
        yield Simulator(app, url)
    app.extensions["sap_system"].close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    with serving(receiver.app()) as url:
        receiver.url = f"{url}/events"
        yield receiver
