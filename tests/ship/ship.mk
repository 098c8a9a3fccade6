# tests/ship/ship.mk — what ships: k8s manifests, alerts, dashboard, image.

#   make check-ship    tests/ship/run.sh: renders and validates k8s/, RBAC, alerts,
#                      dashboard, and a live run of the binary (about a minute)
#   make check-image   tests/ship/image.sh: builds the Dockerfile with buildah (no
#                      Docker engine) and checks the image from inside (2-4 minutes)
#   make image         only build the image (localhost/rollguard:$(VERSION))
#   make image-size    bench/image_size.sh: the runtime image's size, by part
# Both checks are part of `make test`.
.PHONY: check-ship check-image image image-size

check-ship: build/rollguard
	tests/ship/run.sh

check-image:
	tests/ship/image.sh

image:
	tests/ship/image.sh --build

image-size:
	bench/image_size.sh

