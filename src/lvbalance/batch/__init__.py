"""Many transformer areas at once on Dask (a layer between the pipeline and the CLI).

:mod:`~lvbalance.batch.area` plans one area in a worker (paths on a shared file system,
``OUT/<area>/`` as ``compare`` writes it, resumable by content hash);
:mod:`~lvbalance.batch.cluster` opens a local cluster or connects to one;
:mod:`~lvbalance.batch.run` collects the areas and runs one task each;
:mod:`~lvbalance.batch.city` writes ``city.csv`` and :mod:`~lvbalance.batch.city_report`
``city_report.html``.
"""
