"""Every pod and container in dist/: restricted security, probes, resources, shutdown timing, pinned image."""

from __future__ import annotations

import pytest

from manifests_py.config import APP_SETTING_VARIABLES, load_environment
from manifests_py.renderings import RENDERINGS
from manifests_py.shutdown import ShutdownTimings
from tests.manifests.conftest import service_folders

# The service's PREDICTOR_* interface that a deployment may set (the image sets PREDICTOR_HOST).
KEYS_FILE = "PREDICTOR_API_KEYS_FILE"
ALLOWED_APP_VARIABLES = {
    "PREDICTOR_PORT",
    "PREDICTOR_DRAIN_SECONDS",
    "PREDICTOR_KEEP_ALIVE_SECONDS",
    KEYS_FILE,
    *APP_SETTING_VARIABLES.values(),
}


def pods(objects):
    """(object, pod spec, pod metadata) for every workload that carries a pod template."""
    for document in objects:
        if document["kind"] in {"Deployment", "Service"} and "template" in document.get("spec", {}):
            template = document["spec"]["template"]
            yield document, template["spec"], template.get("metadata", {})


def all_pods(dist_objects):
    found = [(folder, *pod) for folder, objects in dist_objects.items() for pod in pods(objects)]
    assert {folder for folder, *_ in found} == set(service_folders()), (
        "every service rendering has a workload"
    )
    return found


def is_knative(document):
    return document["apiVersion"].startswith("serving.knative.dev/")


def test_every_container_runs_restricted(dist_objects, card):
    for folder, document, spec, _ in all_pods(dist_objects):
        assert spec["containers"], folder
        assert not spec.get("initContainers"), folder
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, folder
            assert security["runAsUser"] == card.uid >= 10000, folder
            assert security["runAsGroup"] == card.uid, folder
            assert security["allowPrivilegeEscalation"] is False, folder
            assert security["privileged"] is False, folder
            assert security["readOnlyRootFilesystem"] is True, folder
            assert security["capabilities"] == {"drop": ["ALL"]}, folder
            assert security["seccompProfile"] == {"type": "RuntimeDefault"}, folder
            mounts = {m["name"]: m for m in container["volumeMounts"]}
            assert mounts["tmp"]["mountPath"] == "/tmp", folder  # noqa: S108
            # Anything else mounted is the API keys' CSI volume, read-only.
            assert all(m.get("readOnly") for name, m in mounts.items() if name != "tmp"), folder
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert set(volumes) <= {"tmp", "api-keys"}, folder
        assert set(volumes["tmp"]) == {"name", "emptyDir"}, folder
        if "api-keys" in volumes:
            assert volumes["api-keys"]["csi"]["driver"] == "secrets-store.csi.k8s.io", folder
            assert volumes["api-keys"]["csi"]["readOnly"] is True, folder
        assert volumes["tmp"]["emptyDir"]["sizeLimit"], folder
        assert spec["enableServiceLinks"] is False, folder
        assert spec["serviceAccountName"] == card.service_account, folder
        for host_field in ("hostNetwork", "hostPID", "hostIPC"):
            assert spec.get(host_field, False) is False, folder
        if not is_knative(document):
            # Knative gates pod-level securityContext behind a feature flag; the container level covers it.
            assert spec["automountServiceAccountToken"] is False, folder
            pod_security = spec["securityContext"]
            assert pod_security["runAsNonRoot"] is True, folder
            assert pod_security["runAsUser"] == card.uid, folder
            assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, folder


def test_service_accounts_do_not_mount_api_tokens(dist_objects, card):
    for folder in service_folders():
        accounts = [o for o in dist_objects[folder] if o["kind"] == "ServiceAccount"]
        assert [a["metadata"]["name"] for a in accounts] == [card.service_account], folder
        assert accounts[0]["automountServiceAccountToken"] is False, folder
        # EKS Pod Identity: the association in infra/ names the account; no IRSA annotation.
        assert "annotations" not in accounts[0]["metadata"], folder


def test_probes_follow_the_service_card(dist_objects, card):
    for folder, document, spec, _ in all_pods(dist_objects):
        (container,) = spec["containers"]
        expected_paths = {
            "startupProbe": card.paths.readiness,
            "readinessProbe": card.paths.readiness,
            "livenessProbe": card.paths.liveness,
        }
        for probe_name, path in expected_paths.items():
            probe = container[probe_name]
            assert probe["httpGet"]["path"] == path, (folder, probe_name)
            # Knative probes the port it routes to and rejects any other; EKS names the app port.
            assert probe["httpGet"].get("port") == (None if is_knative(document) else card.port), (
                folder,
                probe_name,
            )
            assert probe["timeoutSeconds"] < probe["periodSeconds"] or probe["periodSeconds"] == 1, folder
        # Startup tolerates a slow model load without liveness restarting the container.
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 10, folder
        assert [p["containerPort"] for p in container["ports"]] == [card.port], folder


def test_every_container_has_requests_and_limits(dist_objects):
    def millicores(value):
        return int(value[:-1]) if value.endswith("m") else int(float(value) * 1000)

    for folder, _, spec, _ in all_pods(dist_objects):
        for container in spec["containers"]:
            resources = container["resources"]
            for kind in ("cpu", "memory"):
                assert resources["requests"][kind], (folder, kind)
                assert resources["limits"][kind], (folder, kind)
            assert millicores(resources["requests"]["cpu"]) <= millicores(resources["limits"]["cpu"]), folder
            # Memory is not compressible: what is requested is what it may use.
            assert resources["requests"]["memory"] == resources["limits"]["memory"], folder


def test_pre_stop_outlasts_deregistration_and_grace_covers_the_drain(dist_objects, card):
    timings = ShutdownTimings.for_card(card)
    deployments = [
        (folder, spec)
        for folder, document, spec, _ in all_pods(dist_objects)
        if document["kind"] == "Deployment"
    ]
    assert {folder for folder, _ in deployments} == {
        r.folder for r in RENDERINGS if r.target.value == "eks" and r.folder in service_folders()
    }
    for folder, spec in deployments:
        (container,) = spec["containers"]
        command = container["lifecycle"]["preStop"]["exec"]["command"]
        assert command[0] == "sleep", folder
        sleep = int(command[1])
        grace = spec["terminationGracePeriodSeconds"]
        assert sleep > card.load_balancer.deregistration_delay_seconds, folder
        assert grace > sleep + card.server.drain_seconds, folder
        assert (sleep, grace) == (timings.pre_stop_sleep_seconds, timings.termination_grace_period_seconds)
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["PREDICTOR_DRAIN_SECONDS"] == str(card.server.drain_seconds), (
            "the drain the grace period assumes"
        )


def test_images_are_pinned_to_the_environment_repository(dist_objects):
    for folder, _, spec, _ in all_pods(dist_objects):
        environment = next(r.environment for r in RENDERINGS if r.folder == folder)
        repository = load_environment(environment).image.repository
        for container in spec["containers"]:
            image = container["image"]
            name, _, reference = image.partition("@") if "@" in image else image.rpartition(":")
            assert name == repository, folder
            assert reference, f"{folder}: {image} is not pinned"
            assert "latest" not in image.rsplit("/", 1)[1].lower(), folder


def test_environment_is_what_the_service_accepts(dist_objects, card, tmp_path):
    settings = pytest.importorskip("api.settings", reason="the service package is not importable")
    for folder, _, spec, _ in all_pods(dist_objects):
        (container,) = spec["containers"]
        env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
        app_variables = {name for name in env if name.startswith("PREDICTOR_")}
        assert app_variables <= ALLOWED_APP_VARIABLES, folder
        assert env["PREDICTOR_PORT"] == str(card.port), folder
        assert env["PREDICTOR_KEEP_ALIVE_SECONDS"] == str(card.server.keep_alive_timeout_seconds), folder
        # The service's own validation accepts exactly what the pod will get (the image adds the host), with
        # a stand-in for the key file that only the CSI driver writes.
        if KEYS_FILE in env:
            env[KEYS_FILE] = str(tmp_path / "api-keys")
            (tmp_path / "api-keys").write_text("k" * 32 + "\n")
        loaded = settings.load_settings({**env, "PREDICTOR_HOST": "0.0.0.0"})  # noqa: S104 - the image's value
        assert loaded.port == card.port, folder


def test_deployments_leave_replicas_to_the_autoscaler_and_never_drop_below_it(dist_objects):
    for folder, objects in dist_objects.items():
        deployments = [o for o in objects if o["kind"] == "Deployment"]
        if not deployments:
            continue
        (autoscaler,) = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
        target = autoscaler["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment", folder
        (deployment,) = [d for d in deployments if d["metadata"]["name"] == target["name"]]
        # The canary's replicas are the release's: 0 at rest, never the HPA's.
        assert [d["spec"]["replicas"] for d in deployments if d is not deployment] == [0], folder
        assert "replicas" not in deployment["spec"], folder
        for each in deployments:
            rolling = each["spec"]["strategy"]["rollingUpdate"]
            assert rolling["maxUnavailable"] == 0, folder
            assert rolling["maxSurge"] not in (0, "0%"), folder
        assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"], folder


def test_knative_runs_the_same_container_as_eks(dist_objects):
    """Knative runs an environment's pod with the EKS security context, probes and resources."""
    for rendering in (r for r in RENDERINGS if r.target.value == "knative"):
        eks_folder = next(
            r.folder for r in RENDERINGS if r.environment == rendering.environment and r.target.value == "eks"
        )
        (_, knative_spec, _) = next(pods(dist_objects[rendering.folder]))
        (_, eks_spec, _) = next(pods(dist_objects[eks_folder]))
        (knative,) = knative_spec["containers"]
        (eks,) = eks_spec["containers"]
        for key in ("securityContext", "resources", "image"):
            assert knative[key] == eks[key], key
        # Except the API keys: Knative mounts no CSI volume (reported as a portability warning).
        assert knative["env"] == [e for e in eks["env"] if e["name"] != KEYS_FILE]
        assert knative["volumeMounts"] == [m for m in eks["volumeMounts"] if m["name"] != "api-keys"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            without_port = {
                **eks[probe],
                "httpGet": {k: v for k, v in eks[probe]["httpGet"].items() if k != "port"},
            }
            assert knative[probe] == without_port, probe
