"""The generator of ``rh_tools/catalogue/endpoints.json``, one module per kind of rule.

``scripts/build_catalogue.py`` is the command to run; this package is not shipped in the wheel. Where a
rule comes from (each module's docstring names the reference file and section it rests on):

* ``reference`` -- the reference folder, its four files, the ``sources`` fingerprint;
* ``sidebar`` -- the docs sidebar names and the sidebar name -> API path table;
* ``capture`` -- the ``<nodeId>##<field>`` endpoints of ``runninghub-endpoints.md`` Part 2, and the
  explicit resolution of the capture's shorthand;
* ``rows`` -- one row per registry model, then per capture-only endpoint; path and name clean-up;
* ``params`` -- parameter rules: types, required, defaults, enums, ranges, lengths, media limits and
  counts, ``##`` keys' friendly names, COMPLEX pass-through fields;
* ``classify`` -- category, task, variant (channel) and model family;
* ``names`` -- the tool-name rule, the collision tie-break, aliases;
* ``descriptions`` -- our own text for endpoints and params;
* ``build`` -- puts the document together, in that order;
* ``cli`` -- the command line: validate, then write or ``--check``.
"""
