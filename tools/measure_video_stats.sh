#!/usr/bin/env bash
# Frame-to-frame change statistics of the synthetic action set next to
# footage that FFmpeg makes locally (no real video can be downloaded here):
# a Mandelbrot zoom, the same with sensor-like noise, testsrc2 and Conway's
# life, 320x240 at 25 frames/s, coded with x264 or MPEG-4 part 2, decoded
# at 64x64 (as the pipeline uses them) and at their own size.
#
# Prints a Markdown table: mean |change| on the 0-255 scale, the share of
# samples changing by < 2, < 8, > 32 and > 64, and percentiles.
#
# Usage: tools/measure_video_stats.sh   (takes a minute or two; debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
KERAS_DELTA_VIDEO_STATS=1 swift test --scratch-path .build-video \
    --filter 'VideoTests.FrameChangeReportTests' 2>&1 | grep '^|'
