"""A fake vLLM server for tests and the demo.

It speaks the part of vLLM's HTTP surface that fma uses — ``/health``, ``/v1/models``,
``/v1/completions``, ``/sleep``, ``/wake_up``, ``/is_sleeping`` — with a time model for sleeping
and waking proportional to a configured weight size, a startup delay during which ``/health``
answers 503, and a configurable import cost made of real imports (so that preloading in the
launcher's zygote saves real time). ``GET /fma/process`` reports what the process really got:
pid, process group, session, environment, open descriptors, signal dispositions and mask.

Run it directly (``python3 -m fma_fakevllm --port 8000``) or as the launcher's entry point
(``fma-launcher --entrypoint fma_fakevllm``), exactly as vLLM would run.
"""
