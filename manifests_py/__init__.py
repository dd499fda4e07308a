"""The cdk8s app: the service described once in typed Python, synthesized for EKS or Knative into dist/.

Entry points: ``python -m manifests_py`` (what ``make synth`` and ``cdk8s synth`` run), and the
``KnativeLikeService`` construct in ``manifests_py.knative_like`` for other apps that want the same shape.
"""
