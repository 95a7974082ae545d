"""Training: one GAN update (step.py) and the Ignite engine around it (trainer.py)."""
