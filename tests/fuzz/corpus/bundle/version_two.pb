
	alpha