-- wrk script for the RPC benchmark: POST the body in $BENCH_BODY with the
-- Content-Type in $BENCH_CONTENT_TYPE, then report like report.lua ($BENCH_REPORT_LUA).
wrk.method = "POST"
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
dofile(os.getenv("BENCH_REPORT_LUA"))
