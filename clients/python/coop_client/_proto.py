"""The generated stubs of coop's wire contract, or an error saying how to make them."""

try:
    from ._generated.coop.v1 import coop_pb2 as pb  # noqa: F401
    from ._generated.coop.v1 import coop_pb2_grpc as rpc  # noqa: F401
except ImportError as e:  # pragma: no cover - depends on the checkout
    raise ImportError(
        "coop_client's gRPC stubs are not generated: run clients/python/generate.sh "
        "(needs Debian's protobuf-compiler and protobuf-compiler-grpc)") from e
