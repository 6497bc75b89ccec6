"""The dataset workflow as use-cases: collect (import), annotate, verify, stats, export, demo.

One concept per module (see docs/dataset.md); import the function you need from its module:

    from cinestudio.dataset.collect import import_paths
    from cinestudio.dataset.annotate import annotate_clip
    from cinestudio.dataset.verify import verify_clip, verify_queue
    from cinestudio.dataset.stats import dataset_stats
    from cinestudio.dataset.export import export_dataset
    from cinestudio.dataset.demo import build_demo

No Qt here (import-linter), and no static dependency on torch or CameraCLIP.
"""
