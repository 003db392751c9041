"""``learnway simulate`` and ``learnway bench paths``: the classroom simulator and policy benchmark."""
