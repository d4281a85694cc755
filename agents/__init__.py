"""openbook"""
