"""`sayzhong-client`: practise SayZhong lessons from a terminal with a microphone, online or offline."""
