"""The model gateway: every model call goes through ``engine.Gateway``.

Submodules are imported by name (``promptdeck.core.gateway.engine``); importing this
package loads nothing heavy.
"""
