"""The camera form check: the pose engine, the model files and video analysis.

Optional (the `vision` extra). Importing this package needs nothing beyond Limber itself;
numpy, OpenCV and ai-edge-litert are imported when an engine is built.
"""

from limber.core.form import Landmark, Landmarks, PoseEngine

from .models import ModelPaths, ensure_models, models_dir

__all__ = ["Landmark", "Landmarks", "ModelPaths", "PoseEngine", "ensure_models", "models_dir"]
