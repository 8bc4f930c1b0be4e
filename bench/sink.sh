# Sourced by the scripts that send reports (bench/daemon.sh, bench/scale.sh,
# packaging/symbol-order.sh), after bench/setup.sh: starts a local SMTP sink
# (aiosmtpd from the bench venv) on a free loopback port and waits until it takes
# connections. Sets $sink (its pid: the caller kills it) and $smtp (the [smtp] table
# of a config that sends to it).
sink_py=target/bench/venv/bin/python
sink_port=$("$sink_py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$sink_py" -m aiosmtpd -n -l "127.0.0.1:$sink_port" -c aiosmtpd.handlers.Sink & sink=$!
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$sink_port") 2>/dev/null && break
    sleep 0.1
done
smtp=$(printf '[smtp]\nhost = "127.0.0.1"\nport = %s\ntls = "none"\nfrom = "r@example.com"\nto = ["a@example.com"]' "$sink_port")
